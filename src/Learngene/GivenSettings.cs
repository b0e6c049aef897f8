namespace Learngene;

/// <summary>One setting a method or an experiment takes: its name (the option is <c>--NAME</c>), what it does,
/// and whether it is a flag (given or not) rather than a value.</summary>
public sealed record Setting(string Name, string Description, bool Flag = false);

/// <summary>Settings a user gave by name (a command's <c>--NAME VALUE</c> options; a flag as "true"), read by
/// the library in the type each takes, with one clear error for a value that does not parse.</summary>
public sealed record GivenSettings(IReadOnlyDictionary<string, string> Values)
{
    public static readonly GivenSettings None = new(new Dictionary<string, string>());

    public string? Text(string name) => Values.TryGetValue(name, out var v) ? v : null;

    public bool Has(string name) => Values.ContainsKey(name);

    /// <summary>A value the command cannot go without.</summary>
    public string Required(string name) => Text(name) ?? throw new LearngeneException($"--{name} is required", setting: name);

    public bool Flag(string name) => Text(name) == "true";

    public int? Int(string name) => Text(name) is not string v ? null
        : int.TryParse(v, out int k) ? k : throw new LearngeneException($"--{name} expects a whole number (got '{v}')", setting: name);

    /// <summary>A count (epochs, a batch, a depth): a whole number, said so when it does not parse; its range is the reader's to check.</summary>
    public int? Count(string name) => Text(name) is not string v ? null
        : int.TryParse(v, out int k) ? k : throw new LearngeneException($"--{name} expects a whole number ≥ 1 (got '{v}')", setting: name);

    public long? Long(string name) => Text(name) is not string v ? null
        : long.TryParse(v, out long k) ? k : throw new LearngeneException($"--{name} expects a whole number (got '{v}')", setting: name);

    public double? Double(string name) => Text(name) is not string v ? null
        : double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double x) ? x
        : throw new LearngeneException($"--{name} expects a number (got '{v}')", setting: name);

    /// <summary>A comma-separated list, trimmed, empty entries dropped.</summary>
    public string[]? List(string name) => Text(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
