namespace Learngene.Reporting;

/// <summary>Line plots for reports (ScottPlot, PNG).</summary>
public static class Plots
{
    /// <summary>A labelled series; <paramref name="Connected"/> false draws its points alone (a scatter);
    /// series of one <paramref name="Group"/> share a colour (a family's points and its front). With
    /// <paramref name="Low"/> and <paramref name="High"/> each point carries an error bar (its interval).</summary>
    public sealed record Series(string Label, double[] X, double[] Y, bool Connected = true, string? Group = null, double[]? Low = null, double[]? High = null);

    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, int width = 900, int height = 500)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groups = new List<string>();
        foreach (var s in series.Where(s => s.X.Length > 0))
        {
            string group = s.Group ?? s.Label;
            if (!groups.Contains(group)) groups.Add(group);
            var line = plot.Add.Scatter(s.X, s.Y, palette.GetColor(groups.IndexOf(group)));
            line.LegendText = s.Label;
            line.MarkerSize = 6;
            line.LineWidth = s.Connected ? 2 : 0;
            if (s.Low is { } low && s.High is { } high)
                for (int i = 0; i < s.X.Length; i++)
                    if (double.IsFinite(low[i]) && double.IsFinite(high[i]))
                    {
                        var bar = plot.Add.Line(s.X[i], low[i], s.X[i], high[i]);
                        bar.Color = palette.GetColor(groups.IndexOf(group));
                        bar.LineWidth = 1.5f;
                        bar.MarkerSize = 0;
                    }
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right); // outside the data area: eight methods would cover the lines
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
    }
}
