from coda_tui.cli import main

main()
