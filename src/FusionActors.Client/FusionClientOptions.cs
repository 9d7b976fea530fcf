using FusionActors.Protocol.Serialization;

namespace FusionActors.Client;

/// <summary>How a client reaches a FusionActors cluster, and how much it may hold back.</summary>
public sealed record FusionClientOptions
{
    /// <summary>Nodes to contact first, as "host:port" of their remoting (any live one is enough). Required.</summary>
    public required IReadOnlyList<string> Contacts { get; init; }

    /// <summary>Actor system name of the nodes. Default "fusion".</summary>
    public string ClusterName { get; init; } = "fusion";

    /// <summary>Token presented at session open (fusion.security.session-tokens on the nodes). Default none.</summary>
    public string? Token { get; init; }

    /// <summary>Address the client's own remoting binds to (nodes send results there). Default 127.0.0.1.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Port of the client's remoting; 0 = any free one. Default 0.</summary>
    public int Port { get; init; }

    /// <summary>Remoting over TLS, as the nodes run it (config/node-tls.hocon). Default off.</summary>
    public ClientTls? Tls { get; init; }

    /// <summary>
    /// Frames held until the server commits them, per session. A push waits while the log is full: this is
    /// the end-to-end back-pressure of a session. Default 16384 (minutes of audio at 50 frames/s).
    /// </summary>
    public int MaxUncommittedFrames { get; init; } = 16_384;

    /// <summary>Frames per batch on the wire. Default 64; at most <see cref="FrameSerializer.MaxFramesPerBatch"/> (16,384).</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>
    /// Bytes of frames in one batch on the wire (headers and payloads, payloads counted as raw float32), whatever
    /// <see cref="MaxBatch"/> says: a batch stays under the transport's frame size (<see cref="TransportFrameBytes"/>),
    /// which would drop a bigger one and make the client replay it forever. A single frame bigger than this is refused at
    /// push (<see cref="FrameTooLargeException"/>). Default 1 MiB; at most <see cref="MaxBatchBytesLimit"/>.
    /// </summary>
    public int MaxBatchBytes { get; init; } = 1 << 20;

    /// <summary>The largest message the client's and the nodes' remoting carry (<c>maximum-frame-size</c>, 4 MiB).</summary>
    public const int TransportFrameBytes = 4 << 20;

    /// <summary>
    /// The largest <see cref="MaxBatchBytes"/>: the transport frame less what a batch carries besides its frames and
    /// the remoting envelope around it (actor paths, stream seq), with room to spare.
    /// </summary>
    public const int MaxBatchBytesLimit = TransportFrameBytes - 64 * 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of its bounds.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUncommittedFrames, 1, nameof(MaxUncommittedFrames));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatch, 1, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBatch, FrameSerializer.MaxFramesPerBatch, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchBytes, 64, nameof(MaxBatchBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBatchBytes, MaxBatchBytesLimit, nameof(MaxBatchBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResultBuffer, 1, nameof(ResultBuffer));
    }

    /// <summary>How long a frame may wait for its batch to fill. Default 5 ms.</summary>
    public TimeSpan BatchDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Session open, close and cluster queries fail after this long. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A reopen that got no answer is sent again after this long. Default 500 ms.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A session silent this long (it pings its client every second) is reopened, and a contact whose
    /// receptionist is silent this long is replaced; lower resumes sooner after a node dies, higher reopens
    /// less often during long pauses (a needless reopen finds the same session and costs a replay). Default 3 s.
    /// </summary>
    public TimeSpan FailureDetectionPause { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A session lost again soon after it was reopened (within twice <see cref="FailureDetectionPause"/>) is reopened
    /// after a back-off: from this, doubling with each quick loss in a row, with up to 20 % jitter, to
    /// <see cref="ReopenBackoffMax"/>. The first reopen after a connection that held is at once. Default 250 ms.
    /// </summary>
    public TimeSpan ReopenBackoffMin { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest back-off between reopens (before jitter). Default 5 s.</summary>
    public TimeSpan ReopenBackoffMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the reopen after <paramref name="quickLosses"/> connections in a row lost soon after they opened
    /// waits, given a uniform <paramref name="u"/> in [0, 1): none after a connection that held (0), else
    /// <see cref="ReopenBackoffMin"/> · 2^(n − 1), at most <see cref="ReopenBackoffMax"/>, stretched by up to 20 %.
    /// </summary>
    public TimeSpan ReopenDelay(int quickLosses, double u)
    {
        if (quickLosses <= 0) return TimeSpan.Zero;
        var ms = ReopenBackoffMin.TotalMilliseconds * Math.Pow(2, Math.Min(quickLosses - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, ReopenBackoffMax.TotalMilliseconds) * (1 + 0.2 * Math.Clamp(u, 0, 1)));
    }

    /// <summary>Fused results buffered for a reader that falls behind; beyond, the oldest are dropped (counted). Default 10000.</summary>
    public int ResultBuffer { get; init; } = 10_000;
}

/// <summary>
/// TLS of the client's remoting. The nodes require a client certificate signed by the cluster's CA
/// (tools/tls/make-ca.sh makes fusion-client.pfx), and the client accepts only nodes whose certificate
/// chains to <paramref name="CaPath"/>.
/// </summary>
/// <param name="CertificatePath">PKCS#12 file with the client's certificate and private key.</param>
/// <param name="CertificatePassword">Its password.</param>
/// <param name="CaPath">PEM file of the cluster's CA; required unless <paramref name="SuppressValidation"/>.</param>
/// <param name="SuppressValidation">Accept any node certificate, unverified: development only. Default off.</param>
public sealed record ClientTls(string CertificatePath, string? CertificatePassword = null, string? CaPath = null, bool SuppressValidation = false);
