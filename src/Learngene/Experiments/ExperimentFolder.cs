using System.Text.Json;
using Learngene.IO;
using Learngene.Models;

namespace Learngene.Experiments;

/// <summary>A run folder holds one experiment: its settings (settings.json's budget part must match when
/// the folder is re-run: methods and seeds may be added, the budget may not change) and its results file.</summary>
public static class ExperimentFolder
{
    public const string ResultsName = "results.json";

    /// <summary>Writes the settings, or refuses a folder whose stored settings have another budget.
    /// <paramref name="budget"/> maps a settings JSON to the part that must match (null: unreadable).</summary>
    public static void Guard(string runDir, string fileName, string json, Func<string, string?> budget)
    {
        Directory.CreateDirectory(runDir);
        string path = Path.Combine(runDir, fileName);
        if (File.Exists(path) && (budget(File.ReadAllText(path)) ?? File.ReadAllText(path)) != budget(json))
            throw new LearngeneException($"{runDir} holds an experiment with other settings or made under earlier rules ({path}); choose another run folder to run these", setting: "out");
        AtomicFile.WriteAllText(path, json);
    }

    /// <summary>Writes an experiment's preset to preset.json, or refuses a folder whose stored preset differs
    /// in anything but what <paramref name="ignore"/> clears (its description).</summary>
    public static void GuardPreset<T>(string runDir, T preset, Func<T, T> ignore) where T : class =>
        Guard(runDir, "preset.json", JsonSerializer.Serialize(preset, ModelConfig.Json), json =>
        {
            try { return JsonSerializer.Serialize(ignore(JsonSerializer.Deserialize<T>(json, ModelConfig.Json) ?? throw new JsonException()), ModelConfig.Json); }
            catch (JsonException) { return null; }
        });

    /// <summary>Whether a run folder's results.json has this top-level field (which experiment wrote it).</summary>
    public static bool ResultsHave(string runDir, string field)
    {
        string path = Path.Combine(runDir, ResultsName);
        if (!File.Exists(path)) return false;
        try { using var doc = JsonDocument.Parse(File.ReadAllText(path)); return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(field, out _); }
        catch (JsonException) { return false; }
    }

    /// <summary>A step's result kept as JSON at <paramref name="path"/>: read back when it is there and parses
    /// (<paramref name="cached"/> is told), else computed and written atomically.</summary>
    public static T Cached<T>(string path, Func<T> compute, Action<T>? cached = null) where T : class
    {
        if (File.Exists(path))
        {
            try
            {
                if (JsonSerializer.Deserialize<T>(File.ReadAllText(path), ModelConfig.Json) is { } done) { cached?.Invoke(done); return done; }
            }
            catch (JsonException) { } // a damaged record is recomputed
        }
        var result = compute();
        Native.CollectGarbage(); // a step (sampling, judging) leaves its buffers behind: free them before the next
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result, ModelConfig.Json));
        return result;
    }

    public static void SaveResults<T>(string runDir, T results) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, ResultsName), JsonSerializer.Serialize(results, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));

    public static T LoadResults<T>(string runDir) where T : class
    {
        string path = Path.Combine(runDir, ResultsName);
        if (!File.Exists(path)) throw new LearngeneException($"{runDir} has no {ResultsName}: run its experiment first");
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path} does not parse (written by another version? re-run the experiment to rewrite it)"); }
    }
}
