-- Known data for the restore scenarios: everything a dump may hold.
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, message_id BIGINT, note VARCHAR(200)) DEFAULT CHARSET=utf8mb4;
CREATE TABLE attachment (id INT PRIMARY KEY, name VARCHAR(100), body LONGBLOB) DEFAULT CHARSET=utf8mb4;
INSERT INTO attachment VALUES
  (1, '报告.pdf', UNHEX('25504446002D312E34FF00')),
  (2, 'emoji 😀 note', UNHEX('00FF27225C0A0D')),
  (3, 'quote \' and backslash \\ and (paren),(comma)', NULL);
INSERT INTO message (flow_id, sender, content)
  SELECT 1 + seq % 3, IF(seq % 2, 'user', 'bot'), CONCAT('消息 ', seq, ' — utf8mb4 ✓') FROM seq_1_to_2000;
CREATE VIEW flow_summary AS
  SELECT f.id, f.name, COUNT(m.id) AS messages FROM flow f LEFT JOIN message m ON m.flow_id = f.id GROUP BY f.id, f.name;
DELIMITER ;;
CREATE TRIGGER message_audit AFTER INSERT ON message FOR EACH ROW
BEGIN
  INSERT INTO audit (message_id, note) VALUES (NEW.id, CONCAT('new message from ', NEW.sender));
END ;;
CREATE PROCEDURE flow_count(OUT n INT)
BEGIN
  SELECT COUNT(*) INTO n FROM flow;
END ;;
CREATE FUNCTION message_total() RETURNS INT READS SQL DATA
BEGIN
  RETURN (SELECT COUNT(*) FROM message);
END ;;
DELIMITER ;
