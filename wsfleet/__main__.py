from wsfleet.cli import entry

entry()
