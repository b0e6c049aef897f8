using System.Text.RegularExpressions;

namespace Learngene.Tests;

/// <summary>The repository as a newcomer walks it: small files, and code that cites only documents it holds.</summary>
public class RepositoryTests
{
    static readonly string Root = FindRoot();

    static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Learngene.slnx"))) return d.FullName;
        throw new InvalidOperationException("the repository root (Learngene.slnx) is not above the test binaries");
    }

    static List<string> Sources()
    {
        char sep = Path.DirectorySeparatorChar;
        return new[] { "src", "tests", "samples" }
            .SelectMany(top => Directory.EnumerateFiles(Path.Combine(Root, top), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}")).ToList();
    }

    [Fact]
    public void No_source_file_passes_300_lines()
    {
        var files = Sources();
        Assert.True(files.Count > 100, $"only {files.Count} source files found under {Root}");
        var longer = files.Select(f => (File: Path.GetRelativePath(Root, f), Lines: File.ReadLines(f).Count())).Where(x => x.Lines > 300).ToList();
        Assert.True(longer.Count == 0, string.Join(", ", longer.Select(x => $"{x.File} ({x.Lines} lines)")));
    }

    [Fact]
    public void Lines_keep_to_the_editorconfig_limit_except_in_the_files_listed_before_it()
    {
        int limit = int.Parse(Regex.Match(File.ReadAllText(Path.Combine(Root, ".editorconfig")), @"max_line_length\s*=\s*(\d+)").Groups[1].Value);
        var listed = File.ReadLines(Path.Combine(Root, "tests", "Learngene.Tests", "long-lines.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();
        var over = Sources()
            .Select(f => (File: Path.GetRelativePath(Root, f).Replace('\\', '/'), Lines: File.ReadLines(f).Count(l => l.Length > limit))).ToList();
        var newlyLong = over.Where(x => x.Lines > 0 && !listed.Contains(x.File)).Select(x => $"{x.File} ({x.Lines} lines over {limit})").ToList();
        Assert.True(newlyLong.Count == 0, "wrap: " + string.Join(", ", newlyLong));
        var done = listed.Where(f => over.All(x => x.File != f || x.Lines == 0)).ToList();
        Assert.True(done.Count == 0, "within the limit now, delete from long-lines.txt: " + string.Join(", ", done));
    }

    [Fact]
    public void The_code_cites_only_documents_the_repository_holds()
    {
        var missing = new List<string>();
        string outside = "SPEC" + ".md"; // the papers' first reading, kept outside the repository
        foreach (var f in Sources())
        {
            string text = File.ReadAllText(f);
            if (text.Contains(outside)) missing.Add($"{Path.GetRelativePath(Root, f)} cites {outside}");
            foreach (Match m in Regex.Matches(text, @"docs/[\w./-]+\.md"))
                if (!File.Exists(Path.Combine(Root, m.Value))) missing.Add($"{Path.GetRelativePath(Root, f)} cites {m.Value}");
        }
        Assert.True(missing.Count == 0, string.Join("; ", missing));
    }
}
