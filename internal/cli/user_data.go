package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
)

// runUserData serves `parley user export` and `parley user erase`: a
// reader's data rights, exercised by the operator (as the admin token).
func runUserData(ctx context.Context, sub string, cfg *config.Config, userID, outFile string, yes bool, stdout io.Writer) error {
	if userID == "" {
		return fmt.Errorf("user %s: --user (or --id) is required", sub)
	}
	if sub == "erase" && !yes {
		return fmt.Errorf("user erase: erasing %s cannot be undone; add --yes", userID)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := service.New(st, render.New())
	admin := service.Actor{Admin: true}
	switch sub {
	case "export":
		d, err := svc.ReaderData(ctx, admin, userID)
		if err != nil {
			return fmt.Errorf("user export: %s", parley.ErrorMessage(err))
		}
		b, err := d.JSON()
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if outFile == "" {
			_, err = stdout.Write(b)
			return err
		}
		// 0600: the file holds personal data.
		if err := os.WriteFile(outFile, b, 0o600); err != nil {
			return fmt.Errorf("user export: %w", err)
		}
		fmt.Fprintf(stdout, "Wrote the data of %s to %s (%d comments, %d votes, %d reports).\n",
			userID, outFile, len(d.Rows.Comments), len(d.Rows.Votes), len(d.Rows.Reports))
	case "erase":
		res, err := svc.EraseReader(ctx, admin, userID)
		if err != nil {
			return fmt.Errorf("user erase: %s", parley.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "Erased %s: %d comments removed, %d kept anonymised, %d votes and %d reports withdrawn.\n",
			userID, res.Removed, res.Anonymised, res.Votes, res.Reports)
	}
	return nil
}
