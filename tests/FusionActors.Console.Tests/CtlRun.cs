using System.Text.Json.Nodes;

namespace FusionActors.Fusionctl.Tests;

public sealed record CtlRun(int ExitCode, string Output, string Error)
{
    public JsonNode Json => JsonNode.Parse(Output) ?? throw new InvalidOperationException("no JSON output");

    public IEnumerable<JsonNode> JsonLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!);

    public override string ToString() => $"exit {ExitCode}\n--- out\n{Output}\n--- err\n{Error}";
}
