using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Xunit;

namespace FusionActors.Runtime.Tests;

/// <summary>A message as the wire carries it (its serializer, manifest and JSON), and the JSON edited as a hostile peer would.</summary>
internal static class WireJson
{
    public static (SerializerWithStringManifest Serializer, string Manifest, string Json) Of(ActorSystem system, object message)
    {
        var s = (SerializerWithStringManifest)system.Serialization.FindSerializerFor(message);
        return (s, s.Manifest(message), Encoding.UTF8.GetString(s.ToBinary(message)));
    }

    /// <summary><paramref name="json"/> with <paramref name="from"/> replaced, after checking it is there (an edit that misses tests nothing).</summary>
    public static string Replaced(string json, string from, string to)
    {
        Assert.Contains(from, json);
        return json.Replace(from, to);
    }
}
