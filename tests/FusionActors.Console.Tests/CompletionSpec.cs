using Xunit;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl.Tests;

public sealed class CompletionSpec
{
    private static readonly Completion Palettes = new(
    [
        new CommandPalette("sessions", "", [new("list", "", []), new("show", "", [new("id", "")])]),
        new CommandPalette("fusion", "", [new("policy", "", [new("session", ""), new("policy", "", ArgumentType.Choice, Choices: ["adaptive", "fixed", "single:"])])]),
        new CommandPalette("watch", "", [new("", "", [new("session", "")])]),
    ]);

    [Theory]
    [InlineData("se", "sessions")]
    [InlineData("sessions ", "list show")]
    [InlineData("sessions s", "show")]
    [InlineData("fusion policy s1 ", "adaptive fixed single:")]
    [InlineData("fusion policy s1 si", "single:")]
    [InlineData("watch ", "s1 s2")]
    [InlineData("nothing ", "")]
    public void Tab_completes_palettes_commands_choices_and_session_ids(string line, string expected)
    {
        var got = Palettes.Candidates(line, a => a.Name == "session" ? ["s1", "s2"] : []);
        Assert.Equal(expected, string.Join(' ', got));
    }

    [Theory]
    [InlineData("sessions show \"my session\"", new[] { "sessions", "show", "my session" })]
    [InlineData("  watch   s1 ", new[] { "watch", "s1" })]
    public void Prompt_lines_split_into_words_with_quotes(string line, string[] words) => Assert.Equal(words, CommandWords.Split(line));

    [Theory]
    [InlineData("127.0.0.1:9110", "127.0.0.1", 9110)]
    [InlineData("node-a", "node-a", 9110)]
    [InlineData("[::1]:9200", "::1", 9200)]
    public void Hosts_parse_with_the_default_port(string text, string host, int port)
    {
        Assert.True(FusionCtl.TryParseHost(text, out var h, out var p));
        Assert.Equal((host, port), (h, p));
    }
}
