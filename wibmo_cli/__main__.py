from wibmo_cli.app import main

main()
