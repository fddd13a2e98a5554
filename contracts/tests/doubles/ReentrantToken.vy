# pragma version 0.4.3
"""
@title Test token that calls back into an executor's `execute` from inside `transfer`
"""
interface IExecutor:
    def execute(asset: address, amount: uint256, steps: DynArray[Step, 5], min_profit: uint256, deadline: uint256) -> uint256: nonpayable

struct Step:
    pool: address
    kind: uint8
    token_in: address
    token_out: address
    fee: uint24

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
target: public(address)
armed: public(bool)


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount


@external
def arm(target: address):
    self.target = target
    self.armed = True


@external
def transfer(to: address, amount: uint256) -> bool:
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount
    if self.armed:
        self.armed = False
        steps: DynArray[Step, 5] = [Step(pool=to, kind=0, token_in=self, token_out=self, fee=3000)]
        extcall IExecutor(self.target).execute(self, 1, steps, 0, max_value(uint256))
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True
