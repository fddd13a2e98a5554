/// A Raydium AMM v4 pool on its order-book-less path: constant product over the vaults' balances
/// less the profit not yet taken, the swap fee taken from the input rounded up, the output rounded
/// down; the program refuses a zero input, a zero output, and an output of the whole reserve.
///
/// Facts from the program's published source (raydium-io/raydium-amm, `process_swap_base_in`,
/// `Calculator::swap_token_amount_base_in`).
public struct RaydiumAMMPool: Equatable, Sendable {
    /// The coin vault's balance less `need_take_pnl_coin`.
    public var coinReserve: UInt64
    /// The pc vault's balance less `need_take_pnl_pc`.
    public var pcReserve: UInt64
    public var swapFeeNumerator: UInt64
    public var swapFeeDenominator: UInt64

    public init(coinReserve: UInt64, pcReserve: UInt64, swapFeeNumerator: UInt64, swapFeeDenominator: UInt64) throws(AMMError) {
        guard swapFeeDenominator > 0, swapFeeNumerator < swapFeeDenominator else {
            throw AMMError(.invalidState, "swap fee \(swapFeeNumerator)/\(swapFeeDenominator)")
        }
        self.coinReserve = coinReserve
        self.pcReserve = pcReserve
        self.swapFeeNumerator = swapFeeNumerator
        self.swapFeeDenominator = swapFeeDenominator
    }

    /// The pool from its vault balances and the profit it still owes its owner.
    public init(coinVault: UInt64, pcVault: UInt64, needTakePnlCoin: UInt64, needTakePnlPc: UInt64,
                swapFeeNumerator: UInt64, swapFeeDenominator: UInt64) throws(AMMError) {
        guard coinVault >= needTakePnlCoin, pcVault >= needTakePnlPc else {
            throw AMMError(.invalidState, "a vault holds less than the profit owed from it")
        }
        try self.init(coinReserve: coinVault - needTakePnlCoin, pcReserve: pcVault - needTakePnlPc,
                      swapFeeNumerator: swapFeeNumerator, swapFeeDenominator: swapFeeDenominator)
    }

    /// Exact input (`swap_base_in`): coin in when `coinToPc`.
    public func amountOut(amountIn: UInt64, coinToPc: Bool) throws(AMMError) -> UInt64 {
        guard amountIn > 0 else { throw AMMError(.invalidAmount, "zero input") }
        let (rIn, rOut) = coinToPc ? (coinReserve, pcReserve) : (pcReserve, coinReserve)
        let feeProduct = UInt128(amountIn) * UInt128(swapFeeNumerator)
        let (q, r) = feeProduct.quotientAndRemainder(dividingBy: UInt128(swapFeeDenominator))
        let fee = r == 0 ? q : q + 1
        let after = UInt128(amountIn) - fee
        let out = UInt128(rOut) * after / (UInt128(rIn) + after)
        guard out > 0 else { throw AMMError(.insufficientLiquidity, "output rounds to zero") }
        guard out < UInt128(rOut) else { throw AMMError(.insufficientLiquidity, "the output takes the whole reserve") }
        return UInt64(out)
    }

    /// The pool after a swap of `amountIn` for `amountOut` (the vault takes the whole input).
    public func applying(amountIn: UInt64, amountOut: UInt64, coinToPc: Bool) throws(AMMError) -> RaydiumAMMPool {
        var p = self
        if coinToPc {
            let (sum, overflow) = coinReserve.addingReportingOverflow(amountIn)
            guard !overflow else { throw AMMError(.overflow, "the coin vault passes u64") }
            p.coinReserve = sum
            p.pcReserve -= amountOut
        } else {
            let (sum, overflow) = pcReserve.addingReportingOverflow(amountIn)
            guard !overflow else { throw AMMError(.overflow, "the pc vault passes u64") }
            p.pcReserve = sum
            p.coinReserve -= amountOut
        }
        return p
    }
}
