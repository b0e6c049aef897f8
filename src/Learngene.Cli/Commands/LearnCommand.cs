using System.CommandLine;
using Learngene.Methods;

namespace Learngene.Cli;

/// <summary><c>learngene learn NAME</c> for every registered learngene method: its learn settings as options,
/// the run folder and threads; the method learns and writes its learngene file.</summary>
static class LearnCommand
{
    public static Command Create()
    {
        var cmd = new Command("learn", "Learn a learngene of any registered method and write its file.");
        foreach (var method in LearngeneMethods.Registry.All) cmd.Subcommands.Add(ForMethod(method));
        return cmd;
    }

    static Command ForMethod(ILearngeneMethod method)
    {
        var own = new SettingOptions(method.LearnSettings);
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/learn-NAME-TIMESTAMP, or the method's own folder where learning again resumes it)" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command(method.Name, method.Description + ".");
        own.AddTo(cmd);
        foreach (var o in new Option[] { output, dataDir, threads }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var given = own.Given(r);
            string dir = r.GetValue(output)
                ?? (method.ResumableFolder(given) is string name ? Path.Combine("runs", name) : Shared.TimestampedRunDir($"learn-{method.Name}"));
            var learned = ConsoleProgress.Run(p => method.Learn(new LearnRequest(dir, given, Shared.Cache(r, dataDir), ConsoleProgress.Log, p)));
            foreach (var line in learned.Lines) Console.WriteLine(line);
            Console.WriteLine($"learngene: {learned.GenePath}");
            return 0;
        });
        return cmd;
    }
}
