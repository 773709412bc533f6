"""wibmo: operations command line for programs on the Wibmo Prepaid platform."""

__version__ = "0.1.0"
