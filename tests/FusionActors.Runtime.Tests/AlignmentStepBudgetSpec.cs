using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>A watermark jump that closes more windows than one aligner step may emit: the alignment actor goes on by itself.</summary>
public sealed class AlignmentStepBudgetSpec() : TestKit(LocalConfig)
{
    private const long Sec = 1_000_000;

    [Fact]
    public void A_jump_over_thousands_of_windows_is_emitted_over_several_steps_every_window_once_and_then_committed()
    {
        const int windows = 6000; // more than one step's budget of empty windows
        Assert.True(windows * GridWindowAssigner.EmptyWindowCost > GridWindowAssigner.MaxEmittedBytesPerStep);
        var fusion = CreateTestProbe();
        var alignment = Sys.ActorOf(AlignmentActor.Props(Spec("budget"), fusion.Ref, clockOffsetUs: 0, clock: new ManualClock(0)));
        var evidence = new Evidence(Audio, "audio", (windows - 1) * Sec + 10, (windows - 1) * Sec + 100_000, [], [], 1.0, 0);
        alignment.Tell(new AlignmentActor.EvidenceBatch(Camera, [], windows * Sec, 1.0), TestActor);
        alignment.Tell(new AlignmentActor.EvidenceBatch(Audio, [evidence], windows * Sec, 1.0), TestActor);

        var starts = new List<long>();
        fusion.FishForMessage(m =>
        {
            if (m is FusionActor.FuseWindow w) starts.Add(w.Window.StartUs);
            return m is FramesCommitted { ThroughUs: windows * Sec };
        }, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, windows).Select(k => k * Sec), starts);
    }
}
