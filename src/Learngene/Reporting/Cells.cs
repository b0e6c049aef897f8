namespace Learngene.Reporting;

/// <summary>How the diffusion reports write a number in a table cell: "–" for a missing value.</summary>
static class Cells
{
    public static string Pct(double a) => double.IsFinite(a) ? (a * 100).ToString("F1") : "–";
    public static string G(double a) => double.IsFinite(a) ? a.ToString("G4") : "–";
}
