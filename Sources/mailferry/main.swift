import MailFerryCLI

MailFerryCommandLine.main()
