"""The embeddable petition: a compact page for partners' sites, framed only by the origins a campaign lists."""
