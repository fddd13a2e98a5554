/// Sleeps for `duration` even in a cancelled task: the bounded waits after a stop (for tracked
/// trades to journal themselves) must still yield to them, not spin.
func pause(_ duration: Duration) async {
    await Task { try? await Task.sleep(for: duration) }.value
}
