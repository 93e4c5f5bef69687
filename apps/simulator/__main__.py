from apps.simulator.cli import main

main()
