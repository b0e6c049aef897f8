namespace Learngene.Reporting;

/// <summary>Line plots for reports (ScottPlot, PNG).</summary>
public static class Plots
{
    /// <summary>A labelled series; <paramref name="Connected"/> false draws its points alone (a scatter);
    /// series of one <paramref name="Group"/> share a colour (a family's points and its front).</summary>
    public sealed record Series(string Label, double[] X, double[] Y, bool Connected = true, string? Group = null);

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
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right); // outside the data area: eight methods would cover the lines
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
    }
}
