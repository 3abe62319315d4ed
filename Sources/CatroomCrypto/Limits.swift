/// Every limit of the session and fan-out protocols, named once (DESIGN §3).
public enum Limits {
    /// MAX_SKIP (Double Ratchet §3.2): at most this many message keys are skipped
    /// for one incoming message, counting both the old chain (up to `pn`) and the
    /// new one (up to `n`), but not the message's own key (CR-0001 §5.4 step 2.2).
    /// Exactly this many is allowed. Checked before any key is derived.
    public static let maxSkip = 1000

    /// Skipped message keys kept per session (Double Ratchet §6.4); the oldest is evicted first.
    public static let maxSkippedKeys = 2000

    /// Earlier receiving ratchet keys remembered per session, so that a replay on
    /// an old chain is reported as a duplicate rather than as a forgery.
    public static let maxPreviousReceivingKeys = 8

    /// Superseded session states kept per peer (after simultaneous initiation or a
    /// re-initiation), tried in turn when the current one cannot decrypt.
    public static let maxPreviousSessions = 4

    /// X3DH base keys a responder remembers, so that a replayed initial message
    /// whose one-time prekey is gone (or which used none) creates no second session.
    public static let maxSeenBaseKeys = 10_000

    /// Unused one-time prekey private keys a responder keeps (CR-0006 §4.1); the
    /// oldest go first, as the server hands out the oldest first (CR-0004 §5.3), so
    /// those are the likeliest to have been fetched by someone who never used them.
    public static let maxOneTimePreKeys = 1000

    /// Recipients of one fan-out message. The room server enforces its own,
    /// smaller occupant cap; this bounds what a client will even parse.
    public static let maxFanoutRecipients = 1024

    /// Longest room address, sender id or recipient id in a fan-out context, in UTF-8 bytes.
    public static let maxFanoutIDBytes = 255
    public static let maxRoomBytes = 1023
}
