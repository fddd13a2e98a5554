# pragma version 0.4.3
"""
@title Curve StableSwap (two coins) state double for the devnet lab
@notice The views market state reads from a classic Curve pool, with their ABI: balances(uint256),
        coins(uint256), A(), fee(), admin_fee(). No exchange: Arbiter's StableSwap math is checked
        against Curve Research's integer model elsewhere; this double checks the state read.
"""

coins: public(address[2])
balances: public(uint256[2])
A: public(uint256)
fee: public(uint256)
admin_fee: public(uint256)


@deploy
def __init__(coins: address[2], balances: uint256[2], A: uint256, fee: uint256, admin_fee: uint256):
    self.coins = coins
    self.balances = balances
    self.A = A
    self.fee = fee
    self.admin_fee = admin_fee
