using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;
using FusionActors.Client;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A node configured with <c>fusion.telemetry.otlp.endpoint</c> (http/protobuf) really exports its spans: a tiny OTLP/HTTP
/// receiver on 127.0.0.1 (Kestrel, ephemeral port) takes POST /v1/traces, checks the content type and decodes the
/// ExportTraceServiceRequest with Google.Protobuf's wire reader down to span names and string attributes.
/// </summary>
public sealed class OtlpExportSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly List<(string Name, Dictionary<string, string> Attributes)> _received = [];
    private readonly List<string?> _contentTypes = [];
    private WebApplication _receiver = null!;
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var spans = Spans(body.ToArray()).ToList();
            lock (_received)
            {
                _contentTypes.Add(request.ContentType);
                _received.AddRange(spans);
            }
            return Results.Bytes([], "application/x-protobuf"); // an empty ExportTraceServiceResponse: all accepted
        });
        await _receiver.StartAsync();
        var endpoint = _receiver.Urls.Single();
        _port = FreePort();
        _node = await StartNodeAsync(_port, $"""
            fusion.security.session-tokens = ["sensor-token"]
            fusion.telemetry.otlp.endpoint = "{endpoint}"
            fusion.telemetry.otlp.protocol = "http/protobuf"
            """);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task The_spans_of_a_window_reach_an_otlp_http_receiver_as_protobuf()
    {
        var options = new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], Token = "sensor-token", RequestTimeout = TimeSpan.FromSeconds(30) };
        await using (var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("otlp-1")))
        {
            await PushWindow(session, 0);
            await session.CompleteAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(FusedStatus.Fused, Assert.Single(await Collect(session, 1, TimeSpan.FromSeconds(30))).Status);
        }
        // The exporter sends in batches every few seconds: wait for this session's window and encodes to arrive.
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            lock (_received)
                if (_received.Any(s => s.Name == "fuse" && s.Attributes.GetValueOrDefault("fusion.session") == "otlp-1")
                    && _received.Count(s => s.Name == "encode" && s.Attributes.GetValueOrDefault("fusion.session") == "otlp-1") >= 2)
                    break;
            Assert.True(DateTime.UtcNow < deadline, $"no fuse and encode spans of otlp-1 among {_received.Count} spans received");
            await Task.Delay(100);
        }
        lock (_received)
        {
            Assert.All(_contentTypes, t => Assert.Equal("application/x-protobuf", t));
            var encodes = _received.Where(s => s.Name == "encode" && s.Attributes.GetValueOrDefault("fusion.session") == "otlp-1").ToList();
            Assert.Equal(["audio", "image"], encodes.Select(e => e.Attributes["fusion.modality"]).Distinct().Order());
        }
    }

    /// <summary>The spans of an ExportTraceServiceRequest: resource_spans(1) / scope_spans(2) / spans(2), name(5), attributes(9).</summary>
    private static IEnumerable<(string Name, Dictionary<string, string> Attributes)> Spans(byte[] request)
    {
        foreach (var resource in Fields(request, 1))
        foreach (var scope in Fields(resource, 2))
        foreach (var span in Fields(scope, 2))
        {
            var name = Fields(span, 5).Select(b => b.ToStringUtf8()).SingleOrDefault() ?? "";
            var attributes = new Dictionary<string, string>();
            foreach (var kv in Fields(span, 9))
            {
                var key = Fields(kv, 1).Select(b => b.ToStringUtf8()).Single();
                // AnyValue: string_value(1); other kinds are left out.
                if (Fields(kv, 2).SingleOrDefault() is { } value && Fields(value, 1).SingleOrDefault() is { } text) attributes[key] = text.ToStringUtf8();
            }
            yield return (name, attributes);
        }
    }

    /// <summary>The length-delimited occurrences of field <paramref name="number"/> in a protobuf message.</summary>
    private static List<ByteString> Fields(ByteString message, int number) => Fields(message.ToByteArray(), number);

    private static List<ByteString> Fields(byte[] message, int number)
    {
        var found = new List<ByteString>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) found.Add(input.ReadBytes());
            else input.SkipLastField();
        }
        return found;
    }
}
