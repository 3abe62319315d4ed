import Foundation

/// The controlling terminal: raw mode and the alternate screen while the UI runs, and
/// the user's settings put back on every way out. `leave()` is the normal path; an
/// `atexit` handler covers `exit()`; handlers for the fatal signals (a Swift trap is
/// SIGILL or SIGTRAP) restore the terminal and then hand over to whatever handled the
/// signal before, so crash reports still appear. SIGINT, SIGTERM and SIGHUP are not
/// handled here: the front end turns them into a clean exit.
enum TerminalDevice {
    /// Alternate screen, bracketed paste, home and clear, the window title saved (XTWINOPS 22).
    static let enterSequence = "\u{1B}[?1049h\u{1B}[?2004h\u{1B}[H\u{1B}[2J\u{1B}[22;2t"
    /// End any synchronised update, no bracketed paste, plain style, cursor shown, main
    /// screen, the window title put back (XTWINOPS 23).
    static let leaveSequence = "\u{1B}[?2026l\u{1B}[?2004l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\u{1B}[23;2t"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    // Written once on entry, before any handler that reads them is installed.
    nonisolated(unsafe) fileprivate static var original = termios()
    nonisolated(unsafe) fileprivate static var active = false
    nonisolated(unsafe) fileprivate static var previousActions: UnsafeMutablePointer<sigaction>?
    /// `leaveSequence` as bytes allocated in advance: a signal handler may not allocate.
    nonisolated(unsafe) fileprivate static var leaveBytes: UnsafeMutableBufferPointer<UInt8>?
    fileprivate static let fatalSignals: [Int32] = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]
    private static let lock = NSLock()

    /// Raw mode (no echo, no line buffering, no signals from keys, no flow control) on
    /// the alternate screen.
    static func enter() throws {
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { throw Failure(description: "tcgetattr: \(String(cString: strerror(errno)))") }
        lock.lock()
        defer { lock.unlock() }
        original = settings
        installFatalSignalHandlers()
        try applyRawMode()
    }

    /// After a suspension (Ctrl-Z, or SIGSTOP and `fg`): raw mode and the alternate screen again.
    static func resume() throws {
        lock.lock()
        defer { lock.unlock() }
        try applyRawMode()
    }

    private static func applyRawMode() throws {
        var settings = original
        settings.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        settings.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        settings.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings) == 0 else {
            throw Failure(description: "tcsetattr: \(String(cString: strerror(errno)))")
        }
        active = true
        write(enterSequence)
    }

    /// Back to the main screen and the settings found on entry; safe to call twice.
    static func leave() {
        lock.lock()
        defer { lock.unlock() }
        guard active else { return }
        active = false
        write(leaveSequence)
        var settings = original
        tcsetattr(STDIN_FILENO, TCSADRAIN, &settings)
    }

    /// Rows and columns (80×24 when the terminal does not say).
    static func size() -> TerminalScreen.Size {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else {
            return TerminalScreen.Size(rows: 24, columns: 80)
        }
        return TerminalScreen.Size(rows: Int(size.ws_row), columns: Int(size.ws_col))
    }

    /// Writes everything, retrying on EINTR; a terminal that went away is ignored.
    static func write(_ string: String) {
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Foundation.write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR || errno == EAGAIN {
                continue
            } else {
                return
            }
        }
    }

    /// Leaves and exits if a clean exit has not finished after `seconds` (a command that hangs).
    static func exitAfter(seconds: Double, status: Int32 = 0) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            leave()
            exit(status)
        }
    }

    private static func installFatalSignalHandlers() {
        guard previousActions == nil else { return }
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        previous.initialize(repeating: sigaction(), count: 65)
        previousActions = previous
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: leaveSequence.utf8.count)
        _ = bytes.initialize(from: leaveSequence.utf8)
        leaveBytes = bytes
        for number in fatalSignals {
            var action = sigaction()
            #if os(Linux)
            action.__sigaction_handler.sa_handler = restoreOnFatalSignal
            #else
            action.__sigaction_u.__sa_handler = restoreOnFatalSignal
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(number, &action, previous + Int(number))
        }
        atexit { TerminalDevice.leave() }
    }
}

/// A fatal signal: restore the terminal with async-signal-safe calls only, put back the
/// previous handler and raise the signal again; it is delivered as this handler returns,
/// and the previous handler (the Swift runtime's backtracer, or the default) acts.
private func restoreOnFatalSignal(_ number: Int32) {
    if TerminalDevice.active {
        TerminalDevice.active = false
        if let bytes = TerminalDevice.leaveBytes { _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
        tcsetattr(STDIN_FILENO, TCSADRAIN, &TerminalDevice.original)
    }
    if let previous = TerminalDevice.previousActions {
        sigaction(number, previous + Int(number), nil)
    }
    raise(number)
}
