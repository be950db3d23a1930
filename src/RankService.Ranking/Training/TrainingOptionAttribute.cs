namespace RankService.Ranking.Training;

/// <summary>
/// Describes one property of <see cref="TrainingOptions"/> once: its help text, its allowed range or values and the
/// loss that reads it. <see cref="TrainingOptionCatalog"/> makes the CLI options, the <c>POST /jobs</c> fields, the
/// OpenAPI schema and the validation from these; the default is the property's initialiser.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class TrainingOptionAttribute(string help) : Attribute
{
    public string Help { get; } = help;

    /// <summary>Smallest allowed value of a number, or of each element of a list; NaN = no bound.</summary>
    public double Min { get; set; } = double.NaN;

    /// <summary>Largest allowed value of a number, or of each element of a list; NaN = no bound.</summary>
    public double Max { get; set; } = double.NaN;

    /// <summary>Most elements of a list; 0 = no limit.</summary>
    public int MaxItems { get; set; }

    /// <summary>Extra command-line names kept from before the catalog (e.g. <c>--lr</c>), comma-separated.</summary>
    public string? Cli { get; set; }

    /// <summary>The loss(es) that read this option, by registry name; null = every run.</summary>
    public string? UsedBy { get; set; }

    /// <summary>
    /// With <see cref="ChoicesMember"/>: the type whose static property or field lists the allowed values (names, or
    /// members of the option's enum). Not needed for an enum option, whose members are its values.
    /// </summary>
    public Type? ChoicesFrom { get; set; }

    public string? ChoicesMember { get; set; }

    /// <summary>Not a field of <c>POST /jobs</c> (a setting of the host that runs the job, such as threads).</summary>
    public bool HostOnly { get; set; }
}
