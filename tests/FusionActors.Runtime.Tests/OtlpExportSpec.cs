using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Xunit;
using FusionActors.Client;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A node configured with <c>fusion.telemetry.otlp.endpoint</c> really exports its spans, over http/protobuf and over
/// gRPC: a tiny OTLP receiver on 127.0.0.1 (Kestrel, ephemeral port) checks the content type and decodes the
/// ExportTraceServiceRequest with Google.Protobuf's wire reader down to span names and string attributes.
/// </summary>
public sealed class OtlpExportSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly List<(string Name, Dictionary<string, string> Attributes)> _received = [];
    private readonly List<string?> _contentTypes = [];
    private WebApplication? _receiver;
    private FusionNode? _node;
    private int _port;
    private string _session = "";

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// The receiver: POST /v1/traces for http/protobuf; for gRPC, HTTP/2 without TLS and the TraceService/Export method,
    /// whose request is the same protobuf behind gRPC's 5-byte frame header, answered with grpc-status 0.
    /// </summary>
    private async Task StartAsync(string protocol)
    {
        var grpc = protocol == "grpc";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        _receiver = builder.Build();
        _receiver.MapPost(grpc ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export" : "/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (grpc) bytes = bytes.Length >= 5 && bytes[0] == 0 ? bytes[5..] : []; // uncompressed frame: flag 0, 4-byte length
            var spans = Spans(bytes).ToList();
            lock (_received)
            {
                _contentTypes.Add(context.Request.ContentType);
                _received.AddRange(spans);
            }
            if (grpc)
            {
                context.Response.ContentType = "application/grpc";
                await context.Response.Body.WriteAsync(new byte[5]); // an empty ExportTraceServiceResponse
                context.Response.AppendTrailer("grpc-status", "0");
            }
            else
            {
                context.Response.ContentType = "application/x-protobuf"; // an empty ExportTraceServiceResponse: all accepted
            }
        });
        await _receiver.StartAsync();
        var endpoint = _receiver.Urls.Single();
        _port = FreePort();
        _node = await StartNodeAsync(_port, $"""
            fusion.security.session-tokens = ["sensor-token"]
            fusion.telemetry.otlp.endpoint = "{endpoint}"
            fusion.telemetry.otlp.protocol = "{protocol}"
            """);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        if (_receiver is not null) await _receiver.DisposeAsync();
    }

    [Theory]
    [InlineData("http/protobuf", "application/x-protobuf")]
    [InlineData("grpc", "application/grpc")]
    public async Task The_spans_of_a_window_reach_an_otlp_receiver_as_protobuf(string protocol, string contentType)
    {
        _session = "otlp-" + protocol.Replace('/', '-');
        await StartAsync(protocol);
        var options = new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], Token = "sensor-token", RequestTimeout = TimeSpan.FromSeconds(30) };
        await using (var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec(_session)))
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
                if (_received.Any(s => s.Name == "fuse" && s.Attributes.GetValueOrDefault("fusion.session") == _session)
                    && _received.Count(s => s.Name == "encode" && s.Attributes.GetValueOrDefault("fusion.session") == _session) >= 2)
                    break;
            Assert.True(DateTime.UtcNow < deadline, $"no fuse and encode spans of {_session} among {_received.Count} spans received");
            await Task.Delay(100);
        }
        lock (_received)
        {
            Assert.All(_contentTypes, t => Assert.StartsWith(contentType, t));
            var encodes = _received.Where(s => s.Name == "encode" && s.Attributes.GetValueOrDefault("fusion.session") == _session).ToList();
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
