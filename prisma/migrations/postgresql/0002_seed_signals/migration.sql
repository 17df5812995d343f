-- The paper's six signals (Figure 2a): explicit actions in red, implicit in green. Images have no play or skip.
INSERT INTO "Signal" ("name", "kind", "appliesToVideo", "appliesToImage", "description") VALUES
  ('click', 'EXPLICIT', true, true, 'the user opened the post'),
  ('like', 'EXPLICIT', true, true, 'the user liked the post'),
  ('share', 'EXPLICIT', true, true, 'the user shared the post'),
  ('favorite', 'EXPLICIT', true, true, 'the user saved the post to their gallery'),
  ('video_play', 'IMPLICIT', true, false, 'the user watched the video beyond the successful-play threshold'),
  ('skip', 'IMPLICIT', true, false, 'the user skipped the video before a successful play');
