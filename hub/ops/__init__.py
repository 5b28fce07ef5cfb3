"""Operations: bringing a site's log up, and the cluster's topics and ACLs as code."""
