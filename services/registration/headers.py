"""The private tokens' headers of delegates and buyers, as every entrypoint declares them."""

from shared.http import Header

TOKEN_HEADER = "X-Registration-Token"
ORDER_TOKEN_HEADER = "X-Order-Token"
DELEGATE_TOKEN = Header(TOKEN_HEADER, "The delegate's private token (in the 201 that booked "
                                      "them and in their private link)")
BUYER_TOKEN = Header(ORDER_TOKEN_HEADER, "The buyer's private token (in the order's 201 and "
                                         "in the buyer's private link)")
DELEGATE_ERRORS = {401: ("No token", None), 403: ("Wrong token", None),
                   404: ("No such registration", None)}
BUYER_ERRORS = {401: ("No token", None), 403: ("Wrong token", None),
                404: ("No such order", None)}
