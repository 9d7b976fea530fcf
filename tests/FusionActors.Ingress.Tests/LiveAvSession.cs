using System.Diagnostics;
using Akka.Actor;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Runtime.Sessions;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// A two-modality AV-Digits session played live into a node by the demo's own driver (<see cref="LivePlayer"/> over a
/// <see cref="Timeline"/> of the committed sample with a fault plan): audio in 20 ms frames, the camera at 10 fps.
/// </summary>
public sealed class LiveAvSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly IActorRef _replies;
    private readonly IngressNode _node;

    private LiveAvSession(IngressNode node, string id, IActorRef replies, Task playing, CancellationTokenSource stop)
    {
        _node = node;
        _stop = stop;
        Id = id;
        _replies = replies;
        Playing = playing;
    }

    public string Id { get; }

    /// <summary>Ends when the timeline has been played (its streams closed) or the session is disposed.</summary>
    public Task Playing { get; }

    public static async Task<LiveAvSession> StartAsync(IngressNode node, string id, int seconds, SensorFaults plan)
    {
        var items = AvDigitsDataset.LoadSample().Items.Take(seconds).ToArray();
        var (replies, _) = ChannelSubscriber.Create(node.System, capacity: 1024);
        var opened = await node.Sessions.Ask<object>(new OpenSession(AvDigitsSession.Spec(id), 0, IngressNode.Token), TimeSpan.FromSeconds(30));
        if (opened is not SessionOpened) throw new InvalidOperationException($"session {id} did not open: {opened}");
        var stop = new CancellationTokenSource();
        var timeline = Timeline.Build(id, items, plan);
        var playing = Task.Run(async () =>
        {
            try { await new LivePlayer(node.Sessions, replies).PlayAsync(id, timeline, Stopwatch.StartNew(), stop.Token); }
            catch (OperationCanceledException) { }
        });
        return new LiveAvSession(node, id, replies, playing, stop);
    }

    /// <summary>The session's status, asked in-process.</summary>
    public Task<SessionStatus> StatusAsync() => _node.Sessions.Ask<SessionStatus>(new GetSessionStatus(Id), TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Playing;
        _replies.Tell(PoisonPill.Instance);
    }
}
