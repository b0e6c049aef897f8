namespace Learngene.Experiments;

public static class DepthList
{
    /// <summary>Parses "1..12", "2,4,6" or a mix ("1..4,8,12") into sorted distinct depths ≥ 1.</summary>
    public static List<int> Parse(string text)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split("..");
            bool ok = range.Length switch
            {
                1 => int.TryParse(range[0], out int single) && Add(single, single),
                2 => int.TryParse(range[0], out int from) && int.TryParse(range[1], out int to) && Add(from, to),
                _ => false,
            };
            if (!ok) throw new LearngeneException($"depths '{text}': expected a range like 1..12 or a list like 2,4,6 of depths of at least 1");
        }
        if (result.Count == 0) throw new LearngeneException($"depths '{text}' names no depth");
        return result.Distinct().Order().ToList();

        bool Add(int from, int to)
        {
            if (from < 1 || to < from) return false;
            for (int d = from; d <= to; d++) result.Add(d);
            return true;
        }
    }
}
