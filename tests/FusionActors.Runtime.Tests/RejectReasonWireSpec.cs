using System.Text;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The rejection of a fraction sent to an integer-typed model input, on the wire and at intake, against hostile bytes.</summary>
public sealed class RejectReasonWireSpec() : TestKit(LocalConfig)
{
    private byte[] Bytes(object message, out int id, out string manifest)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        id = serializer.Identifier;
        manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        return serializer.ToBinary(message);
    }

    [Fact]
    public void NotInteger_travels_by_name_and_a_reason_that_is_no_value_of_the_enum_is_refused()
    {
        var message = new FrameRejected("s", "tokens", 4, RejectReason.NotInteger, "value 2 is 0.5");
        var bytes = Bytes(message, out var id, out var manifest);
        var back = (FrameRejected)Sys.Serialization.Deserialize(bytes, id, manifest);
        Assert.Equal(RejectReason.NotInteger, back.Reason);
        var json = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\"NotInteger\"", json);

        // Hostile peers: a number, a name that is no reason, a combination of two, a huge string.
        var accepted = new List<string>();
        foreach (var reason in new[] { "16", "\"Bogus\"", "\"NotInteger, Shed\"", "\"NotInteger,OutOfRange\"", "\"" + new string('A', 100_000) + "\"", "null" })
        {
            var hostile = Encoding.UTF8.GetBytes(json.Replace("\"NotInteger\"", reason));
            try
            {
                var got = (FrameRejected)Sys.Serialization.Deserialize(hostile, id, manifest);
                accepted.Add($"{reason[..Math.Min(20, reason.Length)]} -> {got.Reason}");
            }
            catch (System.Runtime.Serialization.SerializationException) { }
        }
        Assert.True(accepted.Count == 0, "accepted: " + string.Join("; ", accepted));
    }

    [Fact]
    public void A_fraction_for_an_integer_input_is_a_typed_rejection_at_intake()
    {
        var spec = new StreamSpec { StreamId = "tokens", Modality = "text", Model = "m", FrameLength = 4 };
        var range = new ValueRange(0, 100, 0, Integral: true);
        Assert.Null(FrameValidator.Validate(spec, new Frame("s", "tokens", 0, 0, [1, 2, 3, 99]), null, range));
        var rejected = FrameValidator.Validate(spec, new Frame("s", "tokens", 1, 0, [1, 2.5f, 3, 4]), null, range);
        Assert.Equal(RejectReason.NotInteger, rejected!.Value.Reason);
        Assert.Contains("value 1 is 2.5", rejected.Value.Detail);
        // A float input takes the same fraction.
        Assert.Null(FrameValidator.Validate(spec, new Frame("s", "tokens", 2, 0, [1, 2.5f, 3, 4]), null, range with { Integral = false }));
    }
}
