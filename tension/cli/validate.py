"""The validation report on the real corpora."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder with the real corpora (default: ../shared/data).")
@click.option("--study", "study_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The study to run (default: studies/kcna.toml).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/validation"),
              show_default=True, help="Folder for figures and metrics.json; the report is <out>.md.")
@click.option("--no-figures", is_flag=True, help="Numbers only (what CI runs).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Scoring processes while building the store.")
def validate(data: Path | None, study_file: Path | None, out: Path, no_figures: bool,
             jobs: int) -> None:
    """Validate the index against the real world on a fresh temporary store, as a study file
    says: event study around reference events, dev-set scores vs VADER, extreme days,
    headlines vs stories."""
    from tension.validation.study import run_validation

    data = data or Path("..") / "shared" / "data"
    metrics = run_validation(data, out, study_file=study_file, figures=not no_figures, jobs=jobs,
                             log=lambda m: click.echo(m, err=True))
    es = metrics["event_study"]["all"]
    click.echo(f"dev macro-F1 {metrics['dev']['scorer']['macro_f1']:.3f} "
               f"(plain VADER {metrics['dev']['vader']['macro_f1']:.3f}); event effect "
               f"{es['effect']:+.4f} (95% CI {es['ci_low']:+.4f}..{es['ci_high']:+.4f}, placebo p "
               f"{es['p_value']:.3f}, {es['n_events']} events); report: {out.with_suffix('.md')}")


