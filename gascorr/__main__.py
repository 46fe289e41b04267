from gascorr.cli import main

main()
