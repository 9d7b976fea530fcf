using System.Text;

namespace FusionActors.Fusionctl;

/// <summary>Splits a prompt line into words; double or single quotes keep spaces in one word.</summary>
public static class CommandWords
{
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        var inWord = false;
        foreach (var c in line)
        {
            if (quote is { } q)
            {
                if (c == q) quote = null;
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
