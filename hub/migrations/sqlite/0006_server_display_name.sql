-- A server's display name (empty: its name), as JupyterHub 6 keeps it.
ALTER TABLE servers ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
