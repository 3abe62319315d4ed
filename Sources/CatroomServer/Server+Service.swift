import ServiceLifecycle

/// `catroom serve` runs the server in a `ServiceGroup`, which turns SIGTERM and SIGINT
/// into a graceful shutdown.
extension Server: Service {
    /// Serves until a graceful shutdown (or cancellation), then `shutdown()`: every stream is
    /// sent `<system-shutdown/>` and the call returns within its deadline.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
