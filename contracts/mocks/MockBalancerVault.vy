# pragma version 0.4.3
"""
@title Balancer V2 Vault double: flashLoan → receiveFlashLoan, fee 0, the borrower pushes repayment
"""
import token_ops

interface IFlashLoanRecipient:
    def receiveFlashLoan(tokens: DynArray[address, 8], amounts: DynArray[uint256, 8], feeAmounts: DynArray[uint256, 8], userData: Bytes[4096]): nonpayable

event FlashLoan:
    recipient: indexed(address)
    token: indexed(address)
    amount: uint256
    feeAmount: uint256


@external
def flashLoan(recipient: address, tokens: DynArray[address, 8], amounts: DynArray[uint256, 8], userData: Bytes[4096]):
    assert len(tokens) == len(amounts), "INPUT_LENGTH_MISMATCH"
    before: DynArray[uint256, 8] = []
    fees: DynArray[uint256, 8] = []
    previous: uint160 = 0
    for i: uint256 in range(8):
        if i >= len(tokens):
            break
        assert convert(tokens[i], uint160) > previous, "UNSORTED_TOKENS"
        previous = convert(tokens[i], uint160)
        before.append(token_ops.balance_of(tokens[i], self))
        assert before[i] >= amounts[i], "INSUFFICIENT_FLASH_LOAN_BALANCE"
        fees.append(0)
        token_ops.transfer(tokens[i], recipient, amounts[i])
    extcall IFlashLoanRecipient(recipient).receiveFlashLoan(tokens, amounts, fees, userData)
    for i: uint256 in range(8):
        if i >= len(tokens):
            break
        assert token_ops.balance_of(tokens[i], self) >= before[i] + fees[i], "INVALID_POST_LOAN_BALANCE"
        log FlashLoan(recipient=recipient, token=tokens[i], amount=amounts[i], feeAmount=fees[i])
