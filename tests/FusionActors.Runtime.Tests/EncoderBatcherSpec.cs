using System.Collections.Concurrent;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders.Batching;
using FusionActors.Runtime.Encoders.Chaos;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The node's batcher on the real image-digits model (its ONNX session, shared as on a node): inputs of many
/// sessions in one model call, a poison input failing only its own request, round-robin against a greedy session,
/// a stalled call's thread replaced, a cancelled request never run. Completion is awaited on the batcher's
/// callbacks; nothing waits on a sleep.
/// </summary>
public sealed class EncoderBatcherSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static IEncoder Image => TestSessions.Encoders.Resolve(new StreamSpec { StreamId = "cam", Modality = "image", Model = "image-digits", FrameLength = 64 }, 10).Encoder;

    private static EncoderInput Input(string stream, int i, float first = -1f)
    {
        var values = (float[])Sample[i % Sample.Count].Image.Clone();
        if (first >= 0) values[0] = first;
        return new EncoderInput(stream, i * 100_000L, (i + 1) * 100_000L, values, 1.0, i, i);
    }

    private static BatchingOptions Options(int maxBatch = 32, int threads = 1, TimeSpan? delay = null, int inFlight = 32) => new()
    {
        MaxBatch = maxBatch, Threads = threads, MaxQueueDelay = delay ?? TimeSpan.FromSeconds(1), MaxInFlightPerSession = inFlight,
    };

    /// <summary>Completes when the request is encoded or failed.</summary>
    private static (Action<EncodeRequest> OnDone, Task<EncodeRequest> Done) Completion()
    {
        var tcs = new TaskCompletionSource<EncodeRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        return (r => tcs.TrySetResult(r), tcs.Task);
    }

    [Fact]
    public async Task Inputs_of_many_sessions_go_in_one_model_call_and_each_gets_its_own_output()
    {
        var image = Image;
        // The queue delay is long and the call holds 8: the call goes when the eighth session's input arrives.
        using var batcher = new EncoderBatcher(Options(maxBatch: 8), TimeSpan.FromSeconds(10));
        var done = new List<Task<EncodeRequest>>();
        for (var s = 0; s < 8; s++)
        {
            var (onDone, task) = Completion();
            batcher.Submit(image, $"session-{s}", [Input("cam", s)], onDone);
            done.Add(task);
        }
        var requests = await Task.WhenAll(done).WaitAsync(Wait);
        var stats = batcher.Stats();
        Assert.Equal((1L, 8L), (stats.Calls, stats.Inputs));
        for (var s = 0; s < 8; s++)
        {
            Assert.True(requests[s].IsEncoded);
            var alone = image.Encode([Input("cam", s).Values])[0];
            Assert.Equal(alone.Logits.Length, requests[s].Outputs[0].Logits.Length);
            for (var k = 0; k < alone.Logits.Length; k++) Assert.Equal(alone.Logits[k], requests[s].Outputs[0].Logits[k], 3);
        }
    }

    [Fact]
    public async Task A_poison_input_fails_only_its_own_request_and_the_others_in_its_call_are_encoded()
    {
        const float poison = 0.4242f;
        var encoder = new PoisonInputEncoder(Image, v => v.Span[0] == poison); // one instance: every session's inputs share its calls
        using var batcher = new EncoderBatcher(Options(maxBatch: 8), TimeSpan.FromSeconds(10));
        var done = new List<Task<EncodeRequest>>();
        for (var s = 0; s < 4; s++)
        {
            var (onDone, task) = Completion();
            batcher.Submit(encoder, $"session-{s}", [Input("cam", 2 * s), Input("cam", 2 * s + 1, s == 2 ? poison : -1f)], onDone);
            done.Add(task);
        }
        var requests = await Task.WhenAll(done).WaitAsync(Wait);
        Assert.Equal([true, true, false, true], requests.Select(r => r.IsEncoded).ToArray());
        Assert.IsType<EncoderCrashedException>(requests[2].Error);
        Assert.All(requests.Where(r => r.IsEncoded), r => Assert.All(r.Outputs, o => Assert.Equal(10, o.Logits.Length)));
        var stats = batcher.Stats();
        // One shared call of 8 failed; each of its four requests ran again alone.
        Assert.Equal((1L, 8L, 4L, 1L), (stats.Calls, stats.Inputs, stats.IsolatedCalls, stats.FailedRequests));
    }

    [Fact]
    public async Task A_session_that_floods_gets_its_turn_like_any_other_and_a_real_time_session_goes_in_the_next_call()
    {
        var image = Image;
        var greedyInputs = Enumerable.Range(0, 1024).Select(i => Input("flood", i)).ToArray();
        using var batcher = new EncoderBatcher(Options(maxBatch: 32, threads: 1, delay: TimeSpan.Zero, inFlight: 32), TimeSpan.FromSeconds(10));
        var (greedyDone, greedy) = Completion();
        var greedyRequest = batcher.Submit(image, "greedy", greedyInputs, greedyDone);

        // The real-time session sends its next input when the last one is answered, from inside the callback, so
        // each one is queued while a call runs; with one thread, each must go in the very next call.
        var normal = new ConcurrentQueue<EncodeRequest>();
        var allNormal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var greedyDoneBeforeLastNormal = false;
        void SendNext(int i) => batcher.Submit(image, "normal", [Input("rt", i)], r =>
        {
            normal.Enqueue(r);
            if (i < 9) SendNext(i + 1);
            else
            {
                greedyDoneBeforeLastNormal = !greedyRequest.IsWaiting;
                allNormal.TrySetResult();
            }
        });
        SendNext(0);
        await allNormal.Task.WaitAsync(Wait);
        Assert.False(greedyDoneBeforeLastNormal, "ten inputs of the real-time session took as long as 1024 of the flood");
        Assert.All(normal, r => Assert.True(r.IsEncoded));
        Assert.True((await greedy.WaitAsync(Wait)).IsEncoded);
        var stats = batcher.Stats();
        Assert.Equal(1034, stats.Inputs);
        // Every call but the last was full: 31 of the flood's and the real-time input, or 32 of the flood's.
        Assert.Equal(33, stats.Calls);
    }

    [Fact]
    public async Task A_session_never_has_more_inputs_in_calls_than_its_limit_though_threads_are_free()
    {
        var gate = new ManualResetEventSlim(false);
        var entered = new ManualResetEventSlim(false);
        var held = new GateEncoder(Image, gate, entered);
        using var batcher = new EncoderBatcher(Options(maxBatch: 8, threads: 2, delay: TimeSpan.Zero, inFlight: 8), TimeSpan.FromSeconds(30));
        var (onDone, done) = Completion();
        batcher.Submit(held, "flood", Enumerable.Range(0, 64).Select(i => Input("flood", i)).ToArray(), onDone);
        Assert.True(entered.Wait(Wait));
        // One call of 8 is held in the model; the second thread is free but the session is at its limit.
        var stats = batcher.Stats();
        Assert.Equal((8, 56), (stats.InFlight, stats.Pending));
        // Another session is not held back by the flood's limit: it takes the free thread.
        var (otherDone, other) = Completion();
        batcher.Submit(held, "other", [Input("rt", 0)], otherDone);
        gate.Set();
        Assert.True((await other.WaitAsync(Wait)).IsEncoded);
        Assert.True((await done.WaitAsync(Wait)).IsEncoded);
    }

    [Fact]
    public async Task A_call_stalled_past_the_deadline_has_its_thread_replaced_so_other_sessions_are_still_served()
    {
        const float stall = 0.3131f;
        var gate = new ManualResetEventSlim(false);
        var entered = new ManualResetEventSlim(false);
        var stalling = new GateEncoder(Image, gate, entered, v => v.Span[0] == stall);
        using var batcher = new EncoderBatcher(Options(maxBatch: 4, threads: 1, delay: TimeSpan.Zero), TimeSpan.FromMilliseconds(200));
        var (stalledDone, stalled) = Completion();
        batcher.Submit(stalling, "stuck", [Input("cam", 0, stall)], stalledDone);
        Assert.True(entered.Wait(Wait));
        // The only thread is in the stalled call; the watchdog gives the queues a fresh one.
        var (onDone, served) = Completion();
        batcher.Submit(stalling, "healthy", [Input("cam", 1)], onDone);
        Assert.True((await served.WaitAsync(Wait)).IsEncoded);
        Assert.Equal(1, batcher.Stats().ThreadsReplaced);
        Assert.False(stalled.IsCompleted);
        gate.Set();
        Assert.True((await stalled.WaitAsync(Wait)).IsEncoded);
    }

    [Fact]
    public async Task A_cancelled_request_is_not_run_and_not_answered()
    {
        var gate = new ManualResetEventSlim(false);
        var entered = new ManualResetEventSlim(false);
        var held = new GateEncoder(Image, gate, entered);
        using var batcher = new EncoderBatcher(Options(maxBatch: 4, threads: 1, delay: TimeSpan.Zero), TimeSpan.FromSeconds(30));
        var (firstDone, first) = Completion();
        batcher.Submit(held, "a", [Input("cam", 0)], firstDone);
        Assert.True(entered.Wait(Wait));
        var answered = 0;
        var cancelled = batcher.Submit(held, "b", [Input("cam", 1), Input("cam", 2)], _ => Interlocked.Increment(ref answered));
        batcher.Cancel(cancelled);
        var (lastDone, last) = Completion();
        batcher.Submit(held, "c", [Input("cam", 3)], lastDone);
        gate.Set();
        await Task.WhenAll(first, last).WaitAsync(Wait);
        Assert.Equal(0, Volatile.Read(ref answered));
        Assert.False(cancelled.IsEncoded || cancelled.IsFailed);
        Assert.Equal(2L, batcher.Stats().Inputs); // the first call and the last; the cancelled inputs never ran
    }

    [Fact]
    public void Options_out_of_range_are_refused_naming_the_key()
    {
        var e = Assert.Throws<ArgumentException>(() => new EncoderBatcher(new BatchingOptions { MaxBatch = 0 }, TimeSpan.FromSeconds(1)));
        Assert.Contains("Fusion:Batching:MaxBatch", e.Message);
        Assert.Contains("Fusion:Batching:MaxQueueDelay", Assert.Throws<ArgumentException>(() =>
            new EncoderBatcher(new BatchingOptions { MaxQueueDelay = TimeSpan.FromMilliseconds(-1) }, TimeSpan.FromSeconds(1))).Message);
    }

    /// <summary>Holds each call with a marked input (any, by default) in the model until the gate opens; signals when one is held.</summary>
    private sealed class GateEncoder(IEncoder inner, ManualResetEventSlim gate, ManualResetEventSlim entered, Func<ReadOnlyMemory<float>, bool>? holds = null)
        : FaultyEncoder(inner)
    {
        public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
        {
            if (!gate.IsSet && inputs.Any(v => holds?.Invoke(v) ?? true))
            {
                entered.Set();
                gate.Wait(TimeSpan.FromSeconds(60)); // bounded: a failing spec cannot leave a thread blocked for good
            }
            return Inner.Encode(inputs);
        }
    }
}
