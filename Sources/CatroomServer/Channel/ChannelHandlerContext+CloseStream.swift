import NIOCore

extension ChannelHandlerContext {
    /// Ends a stream in order (RFC 6120 §4.4): writes `goodbye`, half-closes the output once it
    /// is out, and closes fully when the peer closes its side (NIO closes at end of input) or
    /// after `timeout`. Input is read until then: closing with unread input would send a TCP
    /// reset, which can destroy the goodbye before the peer reads it.
    func closeStream(sending goodbye: [UInt8], timeout: TimeAmount) {
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { self.close(promise: nil) }
        channel.closeFuture.assumeIsolated().whenComplete { _ in timer.cancel() }
        writeAndFlush(NIOAny(channel.allocator.buffer(bytes: goodbye))).assumeIsolated().whenComplete { written in
            guard case .success = written else { return self.close(promise: nil) }
            self.close(mode: .output).assumeIsolated().whenFailure { _ in self.close(promise: nil) }
        }
    }
}
