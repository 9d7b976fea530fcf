using System.Collections.Concurrent;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;

namespace FusionActors.Scenarios.Hostile;

/// <summary>
/// A peer that speaks the node's wire without the client library and without manners: it opens a session of its own with
/// a valid token and then pushes only bad frames through that session's frame sink, sends frames for another session
/// without its capability straight to the gateway and the shard region, and opens raw TCP connections to the remoting port
/// that carry random bytes. It keeps no replay log, so nothing slows it down but the sink's own back-pressure.
/// </summary>
public sealed class RawPeer : IAsyncDisposable
{
    /// <summary>The kinds of bad frame sent through the peer's own sink, one of each per round.</summary>
    public static readonly string[] SinkKinds =
        ["not-finite", "wrong-length", "unknown-stream", "out-of-range", "duplicate-seq", "seq-far-ahead", "far-future", "far-past"];

    private readonly ActorSystem _system;
    private readonly int _port;
    private readonly IActorRef _replies;
    private readonly ConcurrentDictionary<string, long> _sent = new();
    private readonly ConcurrentDictionary<string, long> _answers = new();
    private readonly Random _random;
    private ISourceQueueWithComplete<IWithSessionId>? _sink;
    private string _sessionId = "";
    private long _seq;
    private long _nowUs;

    private RawPeer(ActorSystem system, int port, int seed)
    {
        _system = system;
        _port = port;
        _random = new Random(seed);
        _replies = system.ActorOf(Props.Create(() => new Replies(_answers)), "replies");
    }

    /// <summary>Bad frames and other messages sent, by kind.</summary>
    public IReadOnlyDictionary<string, long> Sent => _sent;

    /// <summary>What came back, by message type and, for frame rejections, reason (e.g. <c>FrameRejected:NotFinite</c>).</summary>
    public IReadOnlyDictionary<string, long> Answers => _answers;

    public static RawPeer Start(int nodePort, int seed) =>
        new(ActorSystem.Create("raw-peer", ConfigurationFactory.ParseString($$"""
                akka.actor.provider = remote
                akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, maximum-frame-size = 4 MiB }
                akka.loglevel = ERROR
                {{WireConfig.Hocon}}
                """)
            // A frame sink arrives as Akka.Streams' own stream-ref payload: its serializer comes with the streams config.
            .WithFallback(ActorMaterializer.DefaultConfig())), nodePort, seed);

    private ActorSelection Gateway => _system.ActorSelection($"akka.tcp://fusion@127.0.0.1:{_port}/user/fusion-gateway");

    private ActorSelection Region => _system.ActorSelection($"akka.tcp://fusion@127.0.0.1:{_port}/system/sharding/sessions");

    /// <summary>Opens (or reopens, with a new id) the peer's own session and attaches a queue to its frame sink.</summary>
    public async Task OpenAsync(string sessionId, string? token, TimeSpan timeout)
    {
        _sink?.Complete();
        _sessionId = sessionId;
        _seq = 0;
        _nowUs = 0;
        var reply = await Gateway.Ask<object>(new OpenSession(AvDigitsSession.Spec(sessionId), 0, token, null, _replies, $"nonce-{sessionId}"), timeout);
        if (reply is not SessionOpened { FrameSink: { } sink })
            throw new InvalidOperationException($"raw peer: open of '{sessionId}' answered {reply}");
        _sink = Source.Queue<IWithSessionId>(64, OverflowStrategy.Backpressure).To(sink.Sink).Run(_system.Materializer());
    }

    /// <summary>
    /// One round through the peer's own sink: one batch holding <paramref name="perKind"/> frames of every kind of
    /// <see cref="SinkKinds"/>. Waits while the sink back-pressures.
    /// </summary>
    public async Task SendBadBatchAsync(int perKind)
    {
        if (_sink is null) throw new InvalidOperationException("raw peer: no session open");
        _nowUs += 100_000;
        var frames = new List<Frame>(perKind * SinkKinds.Length);
        for (var i = 0; i < perKind; i++)
            foreach (var kind in SinkKinds)
            {
                frames.Add(Bad(kind));
                _sent.AddOrUpdate(kind, 1, (_, n) => n + 1);
            }
        var offered = await _sink.OfferAsync(new FrameBatch(_sessionId, frames));
        if (offered is not QueueOfferResult.Enqueued)
            throw new InvalidOperationException($"raw peer: the frame sink of '{_sessionId}' did not take a batch: {offered}");
    }

    private Frame Bad(string kind)
    {
        var image = new float[AvDigitsSession.ImagePixels];
        for (var i = 0; i < image.Length; i++) image[i] = (float)_random.NextDouble();
        var camera = AvDigitsSession.CameraStream;
        switch (kind)
        {
            case "not-finite":
                image[_random.Next(image.Length)] = _random.Next(2) == 0 ? float.NaN : float.PositiveInfinity;
                return new Frame(_sessionId, camera, _seq++, _nowUs, image);
            case "wrong-length":
                return new Frame(_sessionId, camera, _seq++, _nowUs, new float[1 + _random.Next(4096)]);
            case "unknown-stream":
                return new Frame(_sessionId, $"ghost-{_random.Next(1_000_000)}", 0, _nowUs, image);
            case "out-of-range":
                image[_random.Next(image.Length)] = 1e6f;
                return new Frame(_sessionId, camera, _seq++, _nowUs, image);
            case "duplicate-seq":
                return new Frame(_sessionId, AvDigitsSession.AudioStream, 0, _nowUs, new float[AvDigitsSession.AudioFrameSamples]);
            case "seq-far-ahead":
                return new Frame(_sessionId, camera, 1_000_000_000L + _random.Next(1_000_000), _nowUs, image);
            case "far-future":
                return new Frame(_sessionId, camera, _seq++, _nowUs + 3_600_000_000L, image);
            case "far-past":
                return new Frame(_sessionId, camera, _seq++, Math.Max(0, _nowUs - 600_000_000L), image);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>
    /// Frames and a batch in another session's name, without its capability, straight at the gateway and the region:
    /// the node must take none of them.
    /// </summary>
    public void SendUnauthorized(string victimSessionId, long eventTimeUs)
    {
        var image = new float[AvDigitsSession.ImagePixels];
        var frame = new Frame(victimSessionId, AvDigitsSession.CameraStream, 0, eventTimeUs, image);
        Gateway.Tell(new FrameBatch(victimSessionId, [frame], "forged-capability"), _replies);
        Region.Tell(new FrameBatch(victimSessionId, [frame]), _replies);
        Region.Tell(frame, _replies);
        _sent.AddOrUpdate("unauthorized", 3, (_, n) => n + 3);
    }

    /// <summary>A raw TCP connection to the remoting port that carries random bytes, then closes.</summary>
    public async Task SendGarbageConnectionAsync(CancellationToken cancel)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", _port, cancel);
            var bytes = new byte[256 + _random.Next(8192)];
            _random.NextBytes(bytes);
            await tcp.GetStream().WriteAsync(bytes, cancel);
            _sent.AddOrUpdate("garbage-connection", 1, (_, n) => n + 1);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // The node may close a garbage connection before all of it is written: that is what it should do.
            _sent.AddOrUpdate("garbage-connection", 1, (_, n) => n + 1);
            _answers.AddOrUpdate("garbage-connection-closed-early", 1, (_, n) => n + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sink?.Complete();
        await _system.Terminate();
    }

    /// <summary>Counts what the node sends back, by type and rejection reason.</summary>
    private sealed class Replies : ReceiveActor
    {
        public Replies(ConcurrentDictionary<string, long> answers)
        {
            ReceiveAny(m =>
            {
                var key = m switch
                {
                    FrameRejected r => $"FrameRejected:{r.Reason}",
                    CommandRejected => "CommandRejected",
                    _ => m.GetType().Name,
                };
                answers.AddOrUpdate(key, 1, (_, n) => n + 1);
            });
        }
    }
}
