using FusionActors.Protocol;

// The records listed here live under Messages/, by role, all in namespace FusionActors.Protocol:
//   Commands/  what a client sends its session (open, close, subscribe, frames, heartbeats, pongs);
//   Events/    what a session or gateway sends back (opened, fenced, commits, results, rejections, pings);
//   Queries/   status and membership, asked and answered;
//   Operator/  operator and chaos commands (IOperatorCommand);
// and at its root the base types (ProtocolMessage, ICredentialed, ISealed, IWithSessionId) and Secrets.
// Files may move between those folders; a manifest below never changes.

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Every application message that may cross a process boundary, with the serializer it is bound to: the one
/// place that says what the wire carries. <see cref="WireConfig"/> makes Akka's bindings from these types, so a
/// record that moves or is renamed keeps its binding, and a spec checks that nothing that can be sent is missing.
/// </summary>
public static class WireTypes
{
    /// <summary>The hot path, in the binary <see cref="FrameSerializer"/>.</summary>
    public static IReadOnlyList<Type> Frames { get; } = [typeof(Frame), typeof(FrameBatch), typeof(StreamHeartbeat)];

    /// <summary>
    /// Everything else, in <see cref="ProtocolSerializer"/>, by manifest. A manifest names a type on the wire:
    /// it never changes once released, and a payload whose manifest is not listed here is refused unread.
    /// </summary>
    public static IReadOnlyDictionary<string, Type> Control { get; } = new Dictionary<string, Type>
    {
        ["open"] = typeof(OpenSession),
        ["opened"] = typeof(SessionOpened),
        ["fenced"] = typeof(SessionFenced),
        ["node-full"] = typeof(NodeFull),
        ["close"] = typeof(CloseSession),
        ["closed"] = typeof(SessionClosed),
        ["sub"] = typeof(Subscribe),
        ["unsub"] = typeof(Unsubscribe),
        ["subbed"] = typeof(Subscribed),
        ["status?"] = typeof(GetSessionStatus),
        ["status"] = typeof(SessionStatus),
        ["close-stream"] = typeof(CloseStream),
        ["committed"] = typeof(FramesCommitted),
        ["result"] = typeof(FusedResult),
        ["late"] = typeof(LateEvidence),
        ["state"] = typeof(StreamStateChanged),
        ["frame-rejected"] = typeof(FrameRejected),
        ["rejected"] = typeof(CommandRejected),
        ["ping"] = typeof(ClockPing),
        ["pong"] = typeof(ClockPong),
        ["members?"] = typeof(GetClusterMembers),
        ["members"] = typeof(ClusterMembers),
        ["unsupported"] = typeof(UnsupportedMessage),
        ["policy"] = typeof(SetFusionPolicy),
        ["record"] = typeof(SetRecording),
        ["restart-stream"] = typeof(RestartStream),
        ["disable-stream"] = typeof(DisableStream),
        ["enable-stream"] = typeof(EnableStream),
        ["crash-encoder"] = typeof(CrashEncoder),
        ["drop-frames"] = typeof(DropFrames),
        ["relinked"] = typeof(WriterRelinked),
        ["relinked-output"] = typeof(RelinkedOutput),
    };

    /// <summary>The name Akka's configuration knows a type by.</summary>
    public static string ConfigName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
