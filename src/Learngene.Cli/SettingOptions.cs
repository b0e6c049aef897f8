using System.CommandLine;

namespace Learngene.Cli;

/// <summary>Settings the library declares (a method's, an experiment's, the training recipe's), each as an
/// option: <c>--NAME VALUE</c>, or a flag. What was given goes back to the library by name, which checks it.</summary>
sealed class SettingOptions
{
    readonly Dictionary<string, Option> options;

    public SettingOptions(IEnumerable<Setting> settings) =>
        options = settings.ToDictionary(s => s.Name, s => s.Flag
            ? (Option)new Option<bool>("--" + s.Name) { Description = s.Description }
            : new Option<string?>("--" + s.Name) { Description = s.Description });

    public IEnumerable<Option> All => options.Values;

    public void AddTo(Command cmd)
    {
        foreach (var o in All) cmd.Options.Add(o);
    }

    /// <summary>The settings given on the command line (a flag as "true"), with <paramref name="fixedSettings"/> under them.</summary>
    public GivenSettings Given(ParseResult r, IReadOnlyDictionary<string, string>? fixedSettings = null)
    {
        var given = new Dictionary<string, string>(fixedSettings ?? new Dictionary<string, string>());
        foreach (var (name, option) in options)
            switch (option)
            {
                case Option<bool> flag when r.GetValue(flag): given[name] = "true"; break;
                case Option<string?> text when r.GetValue(text) is string v: given[name] = v; break;
            }
        return new GivenSettings(given);
    }
}
