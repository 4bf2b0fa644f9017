-- A SIP message rebuilt from IP fragments or TCP segments came in several
-- packets: all of them are stored, and export writes them all. packets
-- lists their numbers, comma-separated, in the order they came; NULL when
-- the message came in packet n alone.
ALTER TABLE messages ADD COLUMN packets TEXT;
