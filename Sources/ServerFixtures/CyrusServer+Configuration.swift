extension CyrusServer {
  /// imapd.conf: everything inside the server's directory, loopback and private.
  func imapdConfiguration() -> String {
    """
    # Private Cyrus for MailFerry's tests (generated; never /etc/imapd.conf).
    servername: \(Self.serverName)
    configdirectory: \(directory)/config
    defaultpartition: default
    partition-default: \(directory)/spool
    sievedir: \(directory)/sieve
    lmtpsocket: \(directory)/run/lmtp
    idlesocket: \(directory)/run/idle
    notifysocket: \(directory)/run/notify
    syslog_prefix: mailferry-cyrus-\(imapPort)
    admins: \(adminUser)
    virtdomains: off
    # The classic namespace: a user's folders under INBOX, with . (or /) as separator.
    altnamespace: no
    unixhierarchysep: \(flavor.separator == "/" ? "yes" : "no")
    hashimapspool: no
    specialusealways: yes
    allowplaintext: yes
    sasl_pwcheck_method: auxprop
    sasl_auxprop_plugin: sasldb
    sasl_sasldb_path: \(directory)/sasldb2
    sasl_mech_list: PLAIN LOGIN
    tls_server_cert: \(certificates.serverCertificate)
    tls_server_key: \(certificates.serverKey)
    tls_versions: tls1_2 tls1_3

    """
  }

  /// cyrus.conf: IMAP and IMAPS on loopback. The master passes no -C to its services, so
  /// each command names the configuration itself.
  func cyrusConfiguration() -> String {
    let config = "-C \(configFile)"
    return """
      START {
        recover cmd="\(binaries.ctlCyrusdb) \(config) -r"
      }
      SERVICES {
        imap cmd="\(binaries.imapd) \(config)" listen="\(host):\(imapPort)" prefork=1 maxchild=200
        imaps cmd="\(binaries.imapd) \(config) -s" listen="\(host):\(imapsPort)" prefork=1 maxchild=200
      }
      EVENTS {
      }

      """
  }
}
