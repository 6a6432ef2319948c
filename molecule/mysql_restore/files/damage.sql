-- What a bad migration or a wrong command does.
DROP TABLE knowledge;
DELETE FROM message WHERE id % 3 = 0;
UPDATE flow SET name = CONCAT(name, ' (broken)');
DROP TRIGGER message_audit;
