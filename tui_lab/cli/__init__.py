"""The headless command line: entry point, arguments, exit codes, console output, and one
module per kind of job."""
