# The words inside a sealed bundle (MANIFEST.txt and each record.txt). The reader's language
# is not known when a bundle is sealed, so every label is written in the three languages,
# English / Russian / Tajik, one after the other.

manifest-title = posbon release bundle
name = name
bundle = bundle
version = version
sealed = sealed
by = by
for = for
folder = folder
kind = kind
tags = tags
created = created
kind-source = source
kind-draft = draft
kind-note = case note
title-name = name
title-title = title
title-case = case
field-contact = how to reach them
field-trust = trust notes
field-gave = what they gave
field-court = court
field-lawyer = lawyer
field-dates = dates
