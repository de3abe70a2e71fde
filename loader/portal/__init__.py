"""The customers' and the operator's web portal (`warehouse serve`): read-only on the marts, one
signed link per customer (tokens), pages and a JSON API under `/portal/<token>/`."""
