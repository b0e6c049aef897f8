namespace Learngene.Reporting;

/// <summary>Line plots for reports (ScottPlot, PNG).</summary>
public static class Plots
{
    public sealed record Series(string Label, double[] X, double[] Y);

    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, int width = 900, int height = 500)
    {
        var plot = new ScottPlot.Plot();
        foreach (var s in series.Where(s => s.X.Length > 0))
        {
            var line = plot.Add.Scatter(s.X, s.Y);
            line.LegendText = s.Label;
            line.MarkerSize = 6;
            line.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Edge.Right); // outside the data area: eight methods would cover the lines
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
    }
}
