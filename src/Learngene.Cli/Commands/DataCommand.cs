using System.CommandLine;
using Learngene.Data;

namespace Learngene.Cli;

static class DataCommand
{
    public static Command Create()
    {
        var cmd = new Command("data", "List, fetch and describe data sets.");

        var listDir = Shared.DataDir();
        var list = new Command("list", "The named data sets, their sources and whether they are cached.");
        list.Options.Add(listDir);
        list.SetAction(r =>
        {
            var catalog = Shared.Catalog(r, listDir);
            Console.WriteLine($"cache: {catalog.CacheDir}");
            foreach (var e in DataCatalog.Entries)
                Console.WriteLine($"  {e.Name,-14} {catalog.Status(e),-8} {e.Description} [{e.Source}]");
            Console.WriteLine("  also: imagefolder:PATH, cifar10:PATH, cifar100:PATH, idx:PATH (your own data)");
            return 0;
        });

        var name = new Argument<string>("NAME") { Description = "mnist, fashion-mnist or all" };
        var fetchDir = Shared.DataDir();
        var fetch = new Command("fetch", "Fetch a named data set into the cache, checking every file's SHA-256.");
        fetch.Arguments.Add(name);
        fetch.Options.Add(fetchDir);
        fetch.SetAction(r =>
        {
            var catalog = Shared.Catalog(r, fetchDir);
            string n = r.GetValue(name)!;
            var names = n == "all" ? DataCatalog.Entries.Select(e => e.Name) : [DataCatalog.Find(n).Name];
            foreach (var each in names) catalog.Fetch(each, Console.WriteLine);
            return 0;
        });

        var spec = new Argument<string>("DATA") { Description = "A --data value" };
        var infoDir = Shared.DataDir();
        var info = new Command("info", "Sizes, shapes and images per class of a data set.");
        info.Arguments.Add(spec);
        info.Options.Add(infoDir);
        info.SetAction(r =>
        {
            var splits = DataSource.Load(r.GetValue(spec)!, Shared.Catalog(r, infoDir), log: Console.WriteLine);
            foreach (var (label, d) in new[] { ("train", splits.Train), ("test", splits.Test) })
            {
                Console.WriteLine($"{splits.Name} {label}: {d.Count} images, {d.ImageSize}x{d.ImageSize}x{d.Channels}, {d.Classes} classes");
                var counts = d.ClassCounts();
                Console.WriteLine("  per class: " + string.Join(", ", d.ClassNames.Select((c, i) => $"{c} {counts[i]}")));
            }
            return 0;
        });

        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(fetch);
        cmd.Subcommands.Add(info);
        return cmd;
    }
}
